-- Index and constraint shapes whose definitions strata writes in the client
-- (catalog::deparse) or leaves to the server; the test compares each with the server's.
CREATE SCHEMA "My S";
-- pg >= 15
CREATE TABLE "My S"."T 1" (id int PRIMARY KEY, "Key" int, name text, type int, "select" int,
  UNIQUE ("Key", name) INCLUDE (type), UNIQUE NULLS NOT DISTINCT (type));
-- pg < 15
CREATE TABLE "My S"."T 1" (id int PRIMARY KEY, "Key" int, name text, type int, "select" int,
  UNIQUE ("Key", name) INCLUDE (type), UNIQUE (type));
-- end
CREATE TABLE r (a int, b int, c int, PRIMARY KEY (a, b) INCLUDE (c));
CREATE TABLE f (x int, y int, z int,
  CONSTRAINT f1 FOREIGN KEY (x) REFERENCES "My S"."T 1" (id) MATCH FULL
-- pg >= 15
    ON UPDATE CASCADE ON DELETE SET NULL (x) DEFERRABLE INITIALLY DEFERRED,
-- pg < 15
    ON UPDATE CASCADE ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
-- end
  CONSTRAINT f2 FOREIGN KEY (x, y) REFERENCES r (a, b) ON DELETE SET DEFAULT,
  CONSTRAINT f3 FOREIGN KEY (z) REFERENCES "My S"."T 1" (type)
    ON UPDATE RESTRICT ON DELETE RESTRICT DEFERRABLE,
  CONSTRAINT f4 FOREIGN KEY (x, z) REFERENCES r ON DELETE CASCADE,
  CONSTRAINT positive CHECK (x > 0));
ALTER TABLE f ADD CONSTRAINT f5 UNIQUE (x) DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX i1 ON r (b DESC, a NULLS FIRST) INCLUDE (c);
CREATE INDEX "I 2" ON r USING hash (c);
CREATE INDEX i3 ON "My S"."T 1" (name COLLATE "C" text_pattern_ops, "select" DESC NULLS LAST);
-- pg >= 15
CREATE UNIQUE INDEX i4 ON r (a) NULLS NOT DISTINCT;
-- pg < 15
CREATE UNIQUE INDEX i4 ON r (a);
-- end
CREATE INDEX i5 ON r USING brin (a) WITH (pages_per_range = 16);
CREATE TABLE v (s varchar(10), e text[], j jsonb, ts tsvector);
CREATE INDEX i6 ON v (s);
CREATE INDEX i7 ON v USING gin (e);
CREATE INDEX i8 ON v USING gin (j jsonb_path_ops);
CREATE INDEX i9 ON v (s DESC);
CREATE INDEX i10 ON v USING gin (j);
CREATE INDEX i11 ON v USING gist (ts);
CREATE INDEX i12 ON v USING gist (ts tsvector_ops (siglen = 100));
CREATE INDEX i13 ON v (lower(s)) WHERE s IS NOT NULL;
CREATE INDEX i14 ON r (c DESC NULLS LAST, b ASC NULLS LAST, a DESC NULLS FIRST);
CREATE TABLE pt (a int, b int) PARTITION BY RANGE (a);
CREATE INDEX pti ON pt (b);
CREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (1) TO (10);
ALTER TABLE pt ADD PRIMARY KEY (a);
CREATE INDEX ON pt1 USING hash (b);
CREATE TABLE "user" ("a$b" int, "Type" text, c varchar(5) COLLATE "C", d timestamptz,
  e text COLLATE "C");
CREATE INDEX ON "user" ("a$b" DESC NULLS FIRST, "Type" NULLS LAST);
CREATE INDEX ON "user" (c);
CREATE INDEX ON "user" (e);
CREATE INDEX ON "user" (e COLLATE "POSIX");
CREATE UNIQUE INDEX ON "user" (d DESC) INCLUDE ("a$b", c);
ALTER TABLE "user" ADD CONSTRAINT uu UNIQUE ("a$b");
ALTER TABLE "user" ADD CONSTRAINT pk PRIMARY KEY (d) DEFERRABLE;
CREATE TABLE fk2 (x int REFERENCES "user" ("a$b"), y timestamptz);
ALTER TABLE fk2 ADD CONSTRAINT fk2y FOREIGN KEY (y) REFERENCES "user" (d)
  ON UPDATE SET DEFAULT ON DELETE NO ACTION NOT VALID;
CREATE MATERIALIZED VIEW mv AS SELECT 1 AS a;
CREATE INDEX ON mv (a);
CREATE TABLE ih (a int PRIMARY KEY);
CREATE TABLE ic () INHERITS (ih);
CREATE INDEX ON ic (a);
