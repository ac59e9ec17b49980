CREATE TABLE audited (created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE orders (id int PRIMARY KEY, total numeric, source text) INHERITS (audited);
CREATE TABLE refunds (id int PRIMARY KEY, source text) INHERITS (audited);
