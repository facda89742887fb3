-- Issue 17: a need is in residents' words, in Chinese only, so an English search found none. Each
-- need now carries the names of the catalogue item it was matched to (Chinese and English), kept by
-- a trigger, and search reads them with the need's own text: "home bathing" or 上门助浴 finds the
-- needs of that kind, whatever words their residents used.
alter table needs add column category_words text not null default '';

create function needs_category_words() returns trigger language plpgsql as $$
begin
    new.category_words := coalesce((select e.name_zh || ' ' || e.name_en from catalogue_entries e
                                     where e.id = new.suggested_entry_id), '');
    return new;
end $$;

create trigger needs_category_words before insert or update of suggested_entry_id on needs
    for each row execute function needs_category_words();

update needs n set category_words = e.name_zh || ' ' || e.name_en
  from catalogue_entries e where e.id = n.suggested_entry_id;

drop index needs_search_idx;
create index needs_search_idx on needs
    using gin (market_grams(title || ' ' || description || ' ' || category_words));
analyze needs;

