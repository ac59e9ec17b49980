CREATE SCHEMA "My Schema";
CREATE TABLE "My Schema"."Order" ("select" int PRIMARY KEY, "we""ird" text DEFAULT 'it''s', "Ünïcode" text);
CREATE INDEX "idx; DROP TABLE x" ON "My Schema"."Order" ("we""ird");
CREATE VIEW "My Schema"."view" AS SELECT "select" FROM "My Schema"."Order";
COMMENT ON TABLE "My Schema"."Order" IS 'back\slash ''q''';
