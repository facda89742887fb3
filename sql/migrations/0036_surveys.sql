-- Resident satisfaction surveys: one per contracted project (its questions from the contract's
-- indicator system's satisfaction part) and one standing survey per community. Residents answer
-- without an account, once each: with a one-time code printed on a slip, or with a phone number
-- confirmed by a code sent by SMS. Neither the number nor the client's address is kept, only their
-- keyed hashes (HMAC with a key derived from MARKET_SECRET_KEY).

create table surveys (
    id            bigserial primary key,
    kind          text not null check (kind in ('project', 'community')),
    contract_id   bigint unique references contracts (id),
    community_id  integer unique references jurisdictions (id),
    -- The public link is /s/<token>: short, and not to be guessed from the id.
    token         text not null unique check (token ~ '^[A-Za-z0-9_-]{8,32}$'),
    status        text not null default 'draft' check (status in ('draft', 'open', 'closed')),
    system_id     bigint references indicator_versions (id),
    -- Judged at closing: fewer residents satisfied than the threshold then in force.
    below_threshold boolean not null default false,
    threshold_percent smallint check (threshold_percent between 1 and 100),
    created_at    timestamptz not null default market_now(),
    opened_at     timestamptz,
    closed_at     timestamptz,
    check ((kind = 'project') = (contract_id is not null)),
    check ((kind = 'community') = (community_id is not null)),
    -- A community's survey stands: it is never closed.
    check (kind = 'project' or status = 'open')
);

create table survey_questions (
    survey_id  bigint not null references surveys (id),
    position   smallint not null check (position between 1 and 50),
    text_zh    text not null check (length(text_zh) between 1 and 200),
    text_en    text not null check (length(text_en) between 1 and 300),
    node_path  text,  -- the indicator it comes from, if any
    primary key (survey_id, position)
);

-- One-time codes the buyer prints on slips for the provider to hand to beneficiaries.
create table survey_codes (
    survey_id   bigint not null references surveys (id),
    code        text not null check (code ~ '^[A-Z2-9]{8}$'),
    batch       smallint not null check (batch >= 1),
    created_at  timestamptz not null default market_now(),
    spent_at    timestamptz,
    primary key (survey_id, code)
);
create index survey_codes_batch on survey_codes (survey_id, batch);

-- A code sent by SMS to confirm a number; the ticket ties the answer form to it.
create table survey_phone_codes (
    ticket        text primary key check (ticket ~ '^[A-Za-z0-9_-]{16,64}$'),
    survey_id     bigint not null references surveys (id),
    phone_hash    text not null,
    address_hash  text not null,
    code_hash     text not null,
    sent_at       timestamptz not null default market_now(),
    expires_at    timestamptz not null,
    attempts      smallint not null default 0,
    used_at       timestamptz
);
create index survey_phone_codes_phone on survey_phone_codes (phone_hash, sent_at);
create index survey_phone_codes_address on survey_phone_codes (address_hash, sent_at);

create table survey_answers (
    id              bigserial primary key,
    survey_id       bigint not null references surveys (id),
    code            text,
    phone_hash      text,
    answered_at     timestamptz not null default market_now(),
    comment         text not null default '' check (length(comment) <= 1000),
    comment_status  text not null default 'none' check (comment_status in ('none', 'pending', 'published', 'hidden')),
    check ((code is null) <> (phone_hash is null)),
    check ((comment = '') = (comment_status = 'none')),
    foreign key (survey_id, code) references survey_codes (survey_id, code),
    -- One answer per slip and per confirmed number, whatever races to store a second.
    unique (survey_id, code),
    unique (survey_id, phone_hash)
);
create index survey_answers_survey on survey_answers (survey_id, answered_at);

create table survey_scores (
    answer_id  bigint not null references survey_answers (id),
    position   smallint not null,
    score      smallint not null check (score between 1 and 5),
    primary key (answer_id, position)
);

-- The local SMS adapter's outbox (the default backend): what would have been sent, to whom by the
-- number's hash and its last four digits only.
create table sms_outbox (
    id         bigserial primary key,
    to_hash    text not null,
    to_tail    text not null check (to_tail ~ '^[0-9]{0,4}$'),
    body       text not null,
    sent_at    timestamptz not null default market_now()
);
create index sms_outbox_to on sms_outbox (to_hash, id);
