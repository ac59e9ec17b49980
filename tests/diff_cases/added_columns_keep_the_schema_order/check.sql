SELECT string_agg(attname, ',' ORDER BY attnum) = 'id,zeta_count,has_lib,bin_names' FROM pg_attribute WHERE attrelid = 'versions'::regclass AND attnum > 0
