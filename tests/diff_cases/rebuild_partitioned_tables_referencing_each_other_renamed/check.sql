SELECT (SELECT string_agg(region || id || ':' || coalesce(owner_id::text, '-'), ',' ORDER BY id) FROM ledgers) = 'eu1:10,us2:20,eu3:-'
   AND (SELECT string_agg(region || id || ':' || coalesce(account_id::text, '-'), ',' ORDER BY id) FROM members) = 'eu10:1,us20:2,eu30:-'
   AND (SELECT count(*) FROM accounts_eu) = 2 AND (SELECT count(*) FROM people_us) = 1
