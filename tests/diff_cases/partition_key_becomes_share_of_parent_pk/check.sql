SELECT count(*) = 2 FROM orders
