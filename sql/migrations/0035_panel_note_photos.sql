-- Photos with a document-review or site-visit note: private files of the evaluator's organisation,
-- without their location, read by those who read the panel's notes through links made out to them.
create table panel_note_photos (
    note_id   bigint not null references panel_notes (id),
    file_id   uuid not null references files (id),
    added_at  timestamptz not null default market_now(),
    primary key (note_id, file_id)
);
