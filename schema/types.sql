-- Types shared by the app's tables.
CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'cancelled');
