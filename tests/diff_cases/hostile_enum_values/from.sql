CREATE TYPE "E" AS ENUM ('it''s');
