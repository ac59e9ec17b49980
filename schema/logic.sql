-- Keeps users.updated_at current on every update.
CREATE FUNCTION touch_updated_at() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TRIGGER users_touch_updated_at
    BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

CREATE VIEW customer_totals AS
    SELECT u.id AS user_id, u.email, count(o.id) AS orders, coalesce(sum(o.total_cents), 0) AS total_cents
    FROM users u
    LEFT JOIN orders o ON o.user_id = u.id AND o.status <> 'cancelled'
    GROUP BY u.id, u.email;
