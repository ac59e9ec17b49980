SELECT (SELECT count(*) FROM raw_orders) = 20 AND order_count() = 0 AND (SELECT count(*) FROM big_orders) = 0
