CREATE TYPE mood AS ENUM ('ok');
CREATE TABLE p (m mood);
