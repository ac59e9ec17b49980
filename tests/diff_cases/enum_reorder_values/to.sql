CREATE TYPE prio AS ENUM ('low', 'medium', 'high');
CREATE TABLE task (id int PRIMARY KEY, p prio DEFAULT 'low');
CREATE INDEX task_high ON task (id) WHERE p = 'high';
CREATE INDEX task_p ON task (p);
CREATE VIEW urgent AS SELECT id, p FROM task WHERE p > 'low';
