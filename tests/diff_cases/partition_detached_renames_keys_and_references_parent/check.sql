SELECT (SELECT string_agg(body, ',' ORDER BY id) FROM comments_2023) = 'a,c'
   AND (SELECT string_agg(body, ',' ORDER BY id) FROM comments) = 'b,d'
