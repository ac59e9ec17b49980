CREATE TABLE tickets (ref serial, queue text NOT NULL, title text) PARTITION BY LIST (queue);
CREATE TABLE tickets_ops PARTITION OF tickets FOR VALUES IN ('ops');
CREATE TABLE tickets_dev PARTITION OF tickets FOR VALUES IN ('dev');
