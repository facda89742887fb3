-- name: insert_file!
insert into files (id, organisation_id, uploaded_by, storage_key, filename, content_type, size_bytes, sha256, visibility)
values (:id, :organisation_id, :uploaded_by, :storage_key, :filename, :content_type, :size_bytes, :sha256, :visibility);

-- name: file^
select * from files where id = :id;

-- name: files_of_organisation
select * from files where organisation_id = :organisation_id order by created_at desc limit :limit;

-- name: public_files_of_organisation
select * from files where organisation_id = :organisation_id and visibility = 'public'
 order by created_at desc limit :limit;

-- name: files_of_user
select * from files where uploaded_by = :user_id and organisation_id is null order by created_at desc limit :limit;
