CREATE TABLE t (owner text);
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON t FOR SELECT USING (owner = current_user OR owner = 'public');
