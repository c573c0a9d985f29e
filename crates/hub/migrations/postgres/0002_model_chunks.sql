-- Artifacts in chunks, so that one is written and read a piece at a time and memory stays
-- bounded whatever its size. Versions published before keep their bytes in models.artifact;
-- newer ones leave it empty and have their chunks here, numbered from 0.
CREATE TABLE model_chunks (
    name    TEXT NOT NULL,
    version TEXT NOT NULL,
    seq     BIGINT NOT NULL,
    bytes   BYTEA NOT NULL,
    PRIMARY KEY (name, version, seq)
);
