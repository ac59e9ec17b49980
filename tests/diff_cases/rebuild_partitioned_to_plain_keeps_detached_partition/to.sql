CREATE TABLE s (k text NOT NULL, v int);
CREATE TABLE s_x (k text NOT NULL, v int);
