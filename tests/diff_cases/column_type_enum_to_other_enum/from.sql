CREATE TYPE old_state AS ENUM ('on', 'off');
CREATE TYPE new_state AS ENUM ('off', 'on', 'broken');
CREATE TABLE t (id int, s old_state DEFAULT 'on', ss old_state[]);
