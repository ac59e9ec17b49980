CREATE TABLE log (m text);
CREATE PROCEDURE note(m text) LANGUAGE sql AS $$ INSERT INTO log VALUES (m) $$;
