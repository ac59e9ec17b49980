CREATE TYPE mood AS ENUM ('sad', 'fine');
