CREATE TYPE visibility AS ENUM ('Public', 'Private');
CREATE TABLE posts (id bigint PRIMARY KEY, visibility visibility NOT NULL DEFAULT 'Public');
