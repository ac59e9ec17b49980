CREATE TABLE "T" ("A" int);
