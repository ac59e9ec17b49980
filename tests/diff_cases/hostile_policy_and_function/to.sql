CREATE SCHEMA "S p";
CREATE TABLE "S p"."T" ("Owner" text);
ALTER TABLE "S p"."T" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "p'1" ON "S p"."T" USING ("Owner" = current_user);
CREATE FUNCTION "S p"."F n"("A" int) RETURNS int LANGUAGE sql AS $$ SELECT "A" $$;
COMMENT ON FUNCTION "S p"."F n"(int) IS 'f''n';
