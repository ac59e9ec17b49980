CREATE TABLE a (id int CONSTRAINT a_id_known CHECK (known(id)));
CREATE TABLE p (id int CONSTRAINT p_pkey PRIMARY KEY, v int);
CREATE FUNCTION known(x int) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT p.id, p.v, count(*) FROM p WHERE p.id = x GROUP BY p.id)
$$;
