CREATE TABLE "T" ("A" bigint, "a" int);
