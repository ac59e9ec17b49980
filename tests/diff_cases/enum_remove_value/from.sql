CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE p (id int PRIMARY KEY, m mood NOT NULL DEFAULT 'ok', ms mood[]);
CREATE INDEX p_m ON p (m);
