CREATE SCHEMA reports;
COMMENT ON SCHEMA reports IS 'for BI';
