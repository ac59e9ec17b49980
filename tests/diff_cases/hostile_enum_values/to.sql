CREATE TYPE "E" AS ENUM ('it''s', 'a\b', 'Ω');
