CREATE TABLE events (
  id int PRIMARY KEY,
  -- strata:using to_timestamp(created)
  created timestamptz,
  done boolean -- strata:using done <> 0
);
