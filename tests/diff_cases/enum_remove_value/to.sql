CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TABLE p (m mood);
