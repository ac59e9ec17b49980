CREATE SCHEMA new;
CREATE TABLE new.t (id int PRIMARY KEY);
CREATE TABLE public.t (id bigint CONSTRAINT t_pkey PRIMARY KEY, v text);
CREATE VIEW public.v AS SELECT id FROM new.t;
