SELECT count(*) = 2 FROM c JOIN p USING (k, id)
