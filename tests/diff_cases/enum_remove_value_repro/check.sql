SELECT array_agg(visibility::text ORDER BY id) = '{Public,Private,Public}' FROM posts
