-- Rectification (整改): every finding — of an evaluation, a survey below its threshold, an upheld
-- complaint — is an item with an owner organisation that puts it right, a buyer that verifies the
-- fix, a deadline and the evidence the fix must bring. Its status is public (群众知晓).
create table rectification_items (
    id                 bigserial primary key,
    source             text not null check (source in ('evaluation', 'survey', 'complaint')),
    source_id          bigint not null,
    -- One source has several findings (an evaluation's low indicators): the key tells them apart.
    key                text not null check (length(key) between 1 and 200),
    owner_id           bigint not null references organisations (id),
    buyer_id           bigint not null references organisations (id),
    finding_zh         text not null check (length(finding_zh) between 1 and 2000),
    finding_en         text not null default '' check (length(finding_en) <= 2000),
    evidence_required  text not null default '' check (length(evidence_required) <= 2000),
    -- Where the finding was made (a contract's evaluations, a survey's results), for the parties.
    source_link        text not null default '' check (length(source_link) <= 300),
    due                date not null,
    status             text not null default 'open'
                       check (status in ('open', 'fix_submitted', 'verified', 'withdrawn')),
    -- 0 in time; 1 late, the buyer told; 2 still late after the escalation period, the bureau above told.
    escalation_level   smallint not null default 0 check (escalation_level between 0 and 2),
    created_at         timestamptz not null default market_now(),
    submitted_at       timestamptz,  -- the latest fix
    verified_at        timestamptz,
    verified_by        bigint references users (id),
    withdrawn_at       timestamptz,
    withdrawn_by       bigint references users (id),
    withdrawn_reason   text not null default '' check (length(withdrawn_reason) <= 2000),
    unique (source, source_id, key),
    check ((status = 'verified') = (verified_at is not null)),
    check ((status = 'withdrawn') = (withdrawn_at is not null)),
    check (owner_id <> buyer_id)
);
create index rectification_of_owner on rectification_items (owner_id, status, due);
create index rectification_of_buyer on rectification_items (buyer_id, status, due);
create index rectification_unfinished on rectification_items (due, id) where status in ('open', 'fix_submitted');
create index rectification_newest on rectification_items (created_at desc, id desc);

-- Each fix the owner submits, as it was submitted: a rejected fix stays beside the next one.
create table rectification_fixes (
    item_id       bigint not null references rectification_items (id),
    version       smallint not null check (version >= 1),
    text          text not null check (length(text) between 1 and 4000),
    submitted_by  bigint not null references users (id),
    submitted_at  timestamptz not null default market_now(),
    primary key (item_id, version)
);

-- The evidence files of a fix: private files of the owner, photos without their location.
create table rectification_fix_files (
    item_id   bigint not null,
    version   smallint not null,
    file_id   uuid not null references files (id),
    primary key (item_id, version, file_id),
    foreign key (item_id, version) references rectification_fixes (item_id, version)
);

-- The buyer's reason for sending a fix back; the item is open again.
create table rectification_rejections (
    item_id      bigint not null,
    version      smallint not null,
    reason       text not null check (length(reason) between 1 and 2000),
    rejected_by  bigint not null references users (id),
    rejected_at  timestamptz not null default market_now(),
    primary key (item_id, version),
    foreign key (item_id, version) references rectification_fixes (item_id, version)
);

-- What the rectification clock did, once each however many processes run it: the reminder before
-- the deadline (level 0) and each escalation (levels 1 and 2), with the organisation told.
create table rectification_escalations (
    item_id          bigint not null references rectification_items (id),
    level            smallint not null check (level between 0 and 2),
    notified_org_id  bigint references organisations (id),
    at               timestamptz not null default market_now(),
    primary key (item_id, level)
);
create index rectification_escalated_to on rectification_escalations (notified_org_id, at) where level > 0;
