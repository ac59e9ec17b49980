CREATE SCHEMA old;
CREATE TABLE old.t (id int PRIMARY KEY);
CREATE TABLE public.t (id int CONSTRAINT t_pkey PRIMARY KEY, v text);
CREATE VIEW public.v AS SELECT id FROM public.t;
