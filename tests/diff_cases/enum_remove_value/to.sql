CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TABLE p (id int PRIMARY KEY, m mood NOT NULL DEFAULT 'sad', ms mood[]);
CREATE INDEX p_m ON p (m);
