CREATE TYPE state AS ENUM ('new', 'open', 'closed');
CREATE TABLE ticket (id int PRIMARY KEY, s state NOT NULL DEFAULT 'new', owner text);
CREATE STATISTICS ticket_s_owner (mcv) ON s, owner FROM ticket;
ALTER STATISTICS ticket_s_owner SET STATISTICS 300;
COMMENT ON STATISTICS ticket_s_owner IS 'state by owner';
