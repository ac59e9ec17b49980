INSERT INTO account VALUES (1, 'A@x.org'), (2, 'b@x.org');
