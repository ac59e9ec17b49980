-- Written by `strata dump`: plain PostgreSQL DDL, load the files in name order.
SET check_function_bodies = false;
-- fingerprint: sha256:a40837d864c0301595e791817a5c43cf9f67faec392aeecd44c984625b7cd7d1

CREATE SCHEMA IF NOT EXISTS public;
COMMENT ON SCHEMA public IS 'standard public schema';
GRANT USAGE ON SCHEMA public TO PUBLIC;

CREATE TABLE public.customers (
    id bigint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME public.customers_id_seq START WITH 1 INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1 NO CYCLE) NOT NULL,
    email text NOT NULL,
    name text NOT NULL,
    phone text,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.orders (
    id bigint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME public.orders_id_seq START WITH 1 INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1 NO CYCLE) NOT NULL,
    customer_id bigint NOT NULL,
    total_cents integer NOT NULL,
    placed_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE public.customers ADD CONSTRAINT customers_email_key UNIQUE (email);

ALTER TABLE public.customers ADD CONSTRAINT customers_pkey PRIMARY KEY (id);

ALTER TABLE public.orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES public.customers(id);

ALTER TABLE public.orders ADD CONSTRAINT orders_pkey PRIMARY KEY (id);

ALTER TABLE public.orders ADD CONSTRAINT orders_total_cents_check CHECK ((total_cents >= 0));

CREATE INDEX orders_customer_id_idx ON public.orders USING btree (customer_id);

CREATE INDEX orders_placed_at_idx ON public.orders USING btree (placed_at);

CREATE VIEW public.customer_totals AS
 SELECT c.id,
    c.email,
    sum(o.total_cents) AS total_cents
   FROM public.customers c
     JOIN public.orders o ON o.customer_id = c.id
  GROUP BY c.id, c.email;
