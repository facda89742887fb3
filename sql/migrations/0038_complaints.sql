-- Complaints with an owner and a deadline (market/complaints): lodged by a resident (with or without
-- an account), an NGO or a buyer; dispatched by category to the organisation responsible, with time
-- limits from the category; escalated by the complaint clock when late, one level at a time.

-- The categories and their time limits, which the platform administrators edit (/complaints/categories).
-- `responsible` says who a complaint goes to: the project's provider, the project's buyer, the
-- residents' committee of the community, or the district's bureau (each falling back to the nearest
-- buyer at or above the community when there is none).
create table complaint_categories (
    id               serial primary key,
    code             text not null unique check (code ~ '^[a-z_]{2,40}$'),
    name_zh          text not null check (length(name_zh) between 2 and 40),
    name_en          text not null check (length(name_en) between 2 and 80),
    responsible      text not null check (responsible in ('provider', 'buyer', 'community', 'district')),
    acknowledge_days integer not null check (acknowledge_days between 1 and 30),
    answer_days      integer not null check (answer_days between 1 and 90),
    day_kind         text not null check (day_kind in ('working', 'calendar')),
    active           boolean not null default true,
    position         integer not null
);

insert into complaint_categories (code, name_zh, name_en, responsible, acknowledge_days, answer_days, day_kind, position)
values ('service_quality', '服务质量', 'Quality of a service', 'provider', 1, 5, 'working', 1),
       ('staff_conduct', '服务人员言行', 'Conduct of service staff', 'provider', 1, 5, 'working', 2),
       ('safety', '安全隐患', 'Safety hazard', 'provider', 1, 3, 'calendar', 3),
       ('project_management', '项目管理与经费', 'Project management and money', 'buyer', 2, 10, 'working', 4),
       ('community_affairs', '社区事务', 'Community affairs', 'community', 1, 7, 'working', 5),
       ('procurement_conduct', '采购与评审违规', 'Irregular procurement or evaluation', 'district', 3, 15, 'working', 6),
       ('other', '其他', 'Other', 'community', 2, 15, 'working', 7);

create table complaints (
    id                 bigserial primary key,
    category_id        integer not null references complaint_categories (id),
    community_id       integer not null references jurisdictions (id),
    address            text not null default '' check (length(address) <= 200),
    project_id         bigint references projects (id),
    provider_id        bigint references organisations (id),
    body               text not null check (length(body) between 10 and 2000),
    -- Who lodged it: a resident (user_id null without an account), an NGO or a buyer acting as such.
    lodged_by_kind     text not null check (lodged_by_kind in ('resident', 'ngo', 'buyer')),
    user_id            bigint references users (id),
    complainant_org_id bigint references organisations (id),
    -- Private: read only by the organisation responsible and those the complaint escalated to.
    contact_name       text not null default '' check (length(contact_name) <= 50),
    contact_phone      text not null default '' check (length(contact_phone) <= 30),
    -- The sha-256 of the private tracking link's token (the token itself is never kept).
    tracking_hash      text not null unique,
    responsible_id     bigint not null references organisations (id),
    status             text not null default 'dispatched'
                       check (status in ('dispatched', 'acknowledged', 'answered', 'closed', 'reopened')),
    escalation_level   smallint not null default 0 check (escalation_level between 0 and 2),
    acknowledge_by     date not null,
    answer_by          date not null,
    -- The deadline in force: to acknowledge, to answer, or to answer after an escalation or a reopening.
    due_on             date not null,
    lodged_at          timestamptz not null default market_now(),
    acknowledged_at    timestamptz,
    answered_at        timestamptz,
    answer             text not null default '' check (length(answer) <= 2000),
    upheld             boolean,
    answered_by_org    bigint references organisations (id),
    closed_at          timestamptz,
    rating             smallint check (rating between 1 and 5),
    reopened_at        timestamptz,
    reopen_reason      text not null default '' check (length(reopen_reason) <= 1000)
);
create index complaints_responsible on complaints (responsible_id, status, due_on);
create index complaints_open_due on complaints (due_on) where status in ('dispatched', 'acknowledged', 'reopened');
create index complaints_answered on complaints (answered_at) where status = 'answered';
create index complaints_lodged on complaints (lodged_at desc, id desc);
create index complaints_by_user on complaints (user_id) where user_id is not null;
create index complaints_by_category on complaints (category_id, lodged_at desc);

-- Each escalation, once per level: the primary key is what lets only one process record (and notify) it.
create table complaint_escalations (
    complaint_id    bigint not null references complaints (id),
    level           smallint not null check (level between 1 and 2),
    organisation_id bigint references organisations (id),  -- null: nobody above (the top of the tree)
    due_was         date not null,
    escalated_at    timestamptz not null default market_now(),
    primary key (complaint_id, level)
);
create index on complaint_escalations (organisation_id);

-- Photos with a complaint: private files without their location, read through links made out to
-- those who may read the complaint.
create table complaint_photos (
    complaint_id bigint not null references complaints (id),
    file_id      uuid not null references files (id),
    added_at     timestamptz not null default market_now(),
    primary key (complaint_id, file_id)
);

-- A resident without an account may upload (a complaint's photos): such a file has no uploader.
alter table files alter column uploaded_by drop not null;
