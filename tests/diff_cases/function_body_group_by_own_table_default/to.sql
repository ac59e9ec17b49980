CREATE TABLE other (id int);
CREATE FUNCTION next_n() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RETURN (SELECT coalesce(max(c), 0) + 1 FROM (SELECT t.id, t.n, count(*) AS c FROM t GROUP BY t.id) s);
END
$$;
CREATE TABLE t (id int PRIMARY KEY, n int DEFAULT next_n());
