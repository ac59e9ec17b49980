SELECT (SELECT count(*) FROM account WHERE norm(email) = 'a@x.org') = 1 AND (SELECT email FROM account WHERE id = 2) = 'b@x.org'
