CREATE TABLE base (a int);
CREATE TABLE report (a int);
