-- Provider reports (进度报告 / 结项报告): one per report milestone of a signed contract, filed by the
-- provider and returned for correction or accepted by the buyer; every submitted version is kept.

-- A report milestone says which stage it reports on; the evaluation of that stage reads it.
alter table contract_milestones
    add column stage text check (stage in ('progress', 'midterm', 'final'));
-- Contracts made from the standard template before this column existed name the stage in the title.
update contract_milestones
   set stage = case when title like '%中期%' then 'midterm'
                    when title like '%末期%' or title like '%结项%' then 'final'
                    else 'progress' end
 where kind = 'report';
alter table contract_milestones add constraint milestone_stage_of_reports check ((kind = 'report') = (stage is not null));

create table delivery_reports (
    id            bigserial primary key,
    contract_id   bigint not null,
    position      smallint not null,
    status        text not null default 'draft'
                  check (status in ('draft', 'submitted', 'returned', 'resubmitted', 'accepted')),
    -- First filed after its due date, or still not filed when it fell due (the reminder job marks it).
    late          boolean not null default false,
    created_at    timestamptz not null default market_now(),
    submitted_at  timestamptz,  -- the first submission; a resubmission is dated on its version
    accepted_at   timestamptz,
    accepted_by   bigint references users (id),
    unique (contract_id, position),
    foreign key (contract_id, position) references contract_milestones (contract_id, position),
    check ((status = 'accepted') = (accepted_at is not null))
);
create index delivery_reports_to_review on delivery_reports (contract_id) where status in ('submitted', 'resubmitted');

-- A version is the report as the provider wrote it: the one not yet submitted is the working draft
-- (at most one), the others are frozen as submitted, each with the buyer's comment if returned.
create table report_versions (
    report_id     bigint not null references delivery_reports (id),
    version       smallint not null check (version >= 1),
    activities    text not null default '' check (length(activities) <= 8000),
    narrative     text not null default '' check (length(narrative) <= 8000),
    edited_by     bigint references users (id),
    edited_at     timestamptz not null default market_now(),
    submitted_by  bigint references users (id),
    submitted_at  timestamptz,
    returned_by   bigint references users (id),
    returned_at   timestamptz,
    comment       text not null default '' check (length(comment) <= 4000),
    primary key (report_id, version),
    check ((submitted_at is null) = (submitted_by is null)),
    check (returned_at is null or submitted_at is not null)
);
create unique index report_one_draft on report_versions (report_id) where submitted_at is null;

-- Beneficiaries reached against each target of the winning bid (targets are text, as bid).
create table report_targets (
    report_id  bigint not null,
    version    smallint not null,
    position   smallint not null,
    name       text not null,
    target     text not null,
    achieved   numeric(14, 2) check (achieved >= 0),
    note       text not null default '' check (length(note) <= 1000),
    primary key (report_id, version, position),
    foreign key (report_id, version) references report_versions (report_id, version)
);

-- Spending by budget line of the winning bid, in fen.
create table report_spending (
    report_id   bigint not null,
    version     smallint not null,
    position    smallint not null,
    item        text not null,
    budget_fen  bigint not null check (budget_fen >= 0),
    spent_fen   bigint not null default 0 check (spent_fen >= 0),
    primary key (report_id, version, position),
    foreign key (report_id, version) references report_versions (report_id, version)
);

-- Evidence: private files of the provider, read through the report.
create table report_evidence (
    report_id  bigint not null,
    version    smallint not null,
    file_id    uuid not null references files (id),
    kind       text not null check (kind in ('photo', 'sign_in_sheet', 'document')),
    added_at   timestamptz not null default market_now(),
    primary key (report_id, version, file_id),
    foreign key (report_id, version) references report_versions (report_id, version)
);
create index on report_evidence (file_id);

-- Each reminder is sent once, whichever process gets there first (the insert is the claim).
create table report_reminders (
    contract_id  bigint not null,
    position     smallint not null,
    days_before  smallint not null check (days_before in (7, 1)),
    sent_at      timestamptz not null default market_now(),
    primary key (contract_id, position, days_before),
    foreign key (contract_id, position) references contract_milestones (contract_id, position)
);

-- A report not filed by the end of the grace period after its due date counts as a failed
-- evaluation of its stage (the standard contract); the evaluation of that stage reads this.
create table report_failures (
    contract_id  bigint not null,
    position     smallint not null,
    stage        text not null check (stage in ('progress', 'midterm', 'final')),
    reason       text not null check (reason in ('not_filed')),
    recorded_at  timestamptz not null default market_now(),
    primary key (contract_id, position),
    foreign key (contract_id, position) references contract_milestones (contract_id, position)
);
