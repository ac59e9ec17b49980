SELECT (SELECT count(*) FROM ev_2023) = 1 AND (SELECT count(*) FROM ev_2024) = 2
   AND (SELECT string_agg(kind || coalesce(note, '-'), ',' ORDER BY at) FROM ev) = 'aone,btwo,a-'
