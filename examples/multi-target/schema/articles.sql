-- The desired schema: articles can be published, and the list of published articles is
-- served by an index. (README.md starts from steps/1-before.sql.)
CREATE TABLE articles (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title        text NOT NULL,
    body         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);

CREATE INDEX articles_published_at_idx ON articles (published_at) WHERE published_at IS NOT NULL;
