CREATE TABLE audited (created_at timestamptz NOT NULL DEFAULT now(), source text);
CREATE TABLE orders (id int PRIMARY KEY, total numeric) INHERITS (audited);
CREATE TABLE refunds (id int PRIMARY KEY) INHERITS (audited);
