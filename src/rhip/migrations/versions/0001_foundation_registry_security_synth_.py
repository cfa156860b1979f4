"""foundation: registry, security, synth bookkeeping

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 13:51:06.829940
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('role', sa.String(length=32), nullable=True),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('outcome', sa.String(length=12), nullable=False),
    sa.Column('client_addr', sa.String(length=64), nullable=True),
    sa.Column('channel', sa.String(length=12), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('resident_count', sa.Integer(), nullable=False),
    sa.CheckConstraint("outcome = 'ok' OR outcome = 'denied' OR outcome = 'error'", name=op.f('ck_audit_event_outcome')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)

    op.create_table('division',
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('level', sa.String(length=12), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=True),
    sa.Column('parent_code', sa.String(length=12), nullable=True),
    sa.CheckConstraint("level = 'county' OR level = 'township' OR level = 'village'", name=op.f('ck_division_level')),
    sa.ForeignKeyConstraint(['parent_code'], ['division.code'], name=op.f('fk_division_parent_code_division')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_division'))
    )
    with op.batch_alter_table('division', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_division_parent_code'), ['parent_code'], unique=False)

    op.create_table('medical_community',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('lead_org_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_medical_community')),
    sa.UniqueConstraint('name', name=op.f('uq_medical_community_name'))
    )
    op.create_table('practitioner',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('profession', sa.String(length=32), nullable=False),
    sa.Column('qualification', sa.String(length=32), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practitioner'))
    )
    with op.batch_alter_table('practitioner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practitioner_id_number'), ['id_number'], unique=False)

    op.create_table('synth_stage',
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('profile', sa.String(length=32), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('params', sa.Text(), nullable=False),
    sa.Column('rows', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seconds', sa.Double(), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('stage', name=op.f('pk_synth_stage'))
    )
    op.create_table('synth_truth',
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('faults', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('resident_id', name=op.f('pk_synth_truth'))
    )
    with op.batch_alter_table('synth_truth', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_synth_truth_person_id'), ['person_id'], unique=False)

    op.create_table('audit_subject',
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['audit_event.id'], name=op.f('fk_audit_subject_event_id_audit_event')),
    sa.PrimaryKeyConstraint('event_id', 'resident_id', name=op.f('pk_audit_subject'))
    )
    with op.batch_alter_table('audit_subject', schema=None) as batch_op:
        batch_op.create_index('ix_audit_subject_resident_id', ['resident_id'], unique=False)

    op.create_table('household',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=24), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('head_resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['village_code'], ['division.code'], name=op.f('fk_household_village_code_division')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household'))
    )
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_village_code'), ['village_code'], unique=False)
        batch_op.create_index('uq_household_code', ['code'], unique=True)

    op.create_table('organization',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('tier', sa.String(length=16), nullable=False),
    sa.Column('division_code', sa.String(length=12), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('medical_community_id', sa.Integer(), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['division_code'], ['division.code'], name=op.f('fk_organization_division_code_division')),
    sa.ForeignKeyConstraint(['medical_community_id'], ['medical_community.id'], name=op.f('fk_organization_medical_community_id_medical_community')),
    sa.ForeignKeyConstraint(['parent_id'], ['organization.id'], name=op.f('fk_organization_parent_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization')),
    sa.UniqueConstraint('code', name=op.f('uq_organization_code'))
    )
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organization_division_code'), ['division_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_organization_medical_community_id'), ['medical_community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organization_parent_id'), ['parent_id'], unique=False)

    op.create_table('village_counter',
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('next_record', sa.Integer(), nullable=False),
    sa.Column('next_household', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['village_code'], ['division.code'], name=op.f('fk_village_counter_village_code_division')),
    sa.PrimaryKeyConstraint('village_code', name=op.f('pk_village_counter'))
    )
    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_app_user_org_id_organization')),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], name=op.f('fk_app_user_practitioner_id_practitioner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('username', name=op.f('uq_app_user_username'))
    )
    op.create_table('practitioner_org',
    sa.Column('practitioner_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('is_primary', sa.Boolean(), nullable=False),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_practitioner_org_org_id_organization')),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], name=op.f('fk_practitioner_org_practitioner_id_practitioner')),
    sa.PrimaryKeyConstraint('practitioner_id', 'org_id', name=op.f('pk_practitioner_org'))
    )
    with op.batch_alter_table('practitioner_org', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practitioner_org_org_id'), ['org_id'], unique=False)

    op.create_table('resident',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('record_no', sa.String(length=17), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('id_number_raw', sa.String(length=32), nullable=True),
    sa.Column('id_number_status', sa.String(length=10), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('ethnicity', sa.String(length=2), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('phone2', sa.String(length=20), nullable=True),
    sa.Column('household_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('relation_to_head', sa.String(length=2), nullable=True),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('hukou_local', sa.Boolean(), nullable=False),
    sa.Column('usual_local', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('status_date', sa.Date(), nullable=True),
    sa.Column('disability', sa.String(length=1), nullable=True),
    sa.Column('disability_grade', sa.SmallInteger(), nullable=True),
    sa.Column('poverty_registered', sa.Boolean(), nullable=False),
    sa.Column('fp_special_family', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("id_number_status = 'valid' OR id_number_status = 'legacy15' OR id_number_status = 'invalid' OR id_number_status = 'missing'", name=op.f('ck_resident_id_number_status')),
    sa.CheckConstraint("sex = '0' OR sex = '1' OR sex = '2' OR sex = '9'", name=op.f('ck_resident_sex')),
    sa.CheckConstraint("status = 'alive' OR status = 'deceased' OR status = 'moved_out'", name=op.f('ck_resident_status')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_resident_household_id_household')),
    sa.ForeignKeyConstraint(['village_code'], ['division.code'], name=op.f('fk_resident_village_code_division')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resident'))
    )
    with op.batch_alter_table('resident', schema=None) as batch_op:
        batch_op.create_index('ix_resident_household_id', ['household_id'], unique=False)
        batch_op.create_index('ix_resident_id_number', ['id_number'], unique=False)
        batch_op.create_index('ix_resident_id_number_raw', ['id_number_raw'], unique=False)
        batch_op.create_index('ix_resident_name', ['name'], unique=False)
        batch_op.create_index('ix_resident_phone', ['phone'], unique=False)
        batch_op.create_index('ix_resident_phone2', ['phone2'], unique=False)
        batch_op.create_index('ix_resident_village_code_name', ['village_code', 'name'], unique=False)
        batch_op.create_index('uq_resident_record_no', ['record_no'], unique=True)

    op.create_table('team',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_team_org_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team')),
    sa.UniqueConstraint('code', name=op.f('uq_team_code'))
    )
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_org_id'), ['org_id'], unique=False)

    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_api_token_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)

    op.create_table('team_member',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], name=op.f('fk_team_member_practitioner_id_practitioner')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_team_member_team_id_team')),
    sa.PrimaryKeyConstraint('team_id', 'practitioner_id', name=op.f('pk_team_member'))
    )
    with op.batch_alter_table('team_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_member_practitioner_id'), ['practitioner_id'], unique=False)

    op.create_table('team_village',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('division_code', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['division_code'], ['division.code'], name=op.f('fk_team_village_division_code_division')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_team_village_team_id_team')),
    sa.PrimaryKeyConstraint('team_id', 'division_code', name=op.f('pk_team_village'))
    )
    with op.batch_alter_table('team_village', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_village_division_code'), ['division_code'], unique=False)

    op.create_table('user_scope',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('division_code', sa.String(length=12), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(division_code IS NULL) <> (org_id IS NULL)', name=op.f('ck_user_scope_one_target')),
    sa.ForeignKeyConstraint(['division_code'], ['division.code'], name=op.f('fk_user_scope_division_code_division')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_user_scope_org_id_organization')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_user_scope_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_scope'))
    )
    with op.batch_alter_table('user_scope', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_scope_user_id'), ['user_id'], unique=False)

    op.create_table('web_session',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('client_addr', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_web_session_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_web_session'))
    )
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_session_user_id'), ['user_id'], unique=False)

    _audit_append_only()


AUDIT_TABLES = ("audit_event", "audit_subject")


def _audit_append_only() -> None:
    """The audit trail is append-only: the database itself refuses UPDATE and DELETE."""
    if op.get_context().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION rhip_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'audit trail is append-only (% on %)', TG_OP, TG_TABLE_NAME; END $$
        """)
        for table in AUDIT_TABLES:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION rhip_audit_append_only()")
    else:
        for table in AUDIT_TABLES:
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, 'audit trail is append-only ({verb} on {table})'); END")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in AUDIT_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS rhip_audit_append_only()")
    else:
        for table in AUDIT_TABLES:
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
    _drop_tables()


def _drop_tables() -> None:
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_session_user_id'))

    op.drop_table('web_session')
    with op.batch_alter_table('user_scope', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_scope_user_id'))

    op.drop_table('user_scope')
    with op.batch_alter_table('team_village', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_village_division_code'))

    op.drop_table('team_village')
    with op.batch_alter_table('team_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_member_practitioner_id'))

    op.drop_table('team_member')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))

    op.drop_table('api_token')
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_org_id'))

    op.drop_table('team')
    with op.batch_alter_table('resident', schema=None) as batch_op:
        batch_op.drop_index('uq_resident_record_no')
        batch_op.drop_index('ix_resident_village_code_name')
        batch_op.drop_index('ix_resident_phone2')
        batch_op.drop_index('ix_resident_phone')
        batch_op.drop_index('ix_resident_name')
        batch_op.drop_index('ix_resident_id_number_raw')
        batch_op.drop_index('ix_resident_id_number')
        batch_op.drop_index('ix_resident_household_id')

    op.drop_table('resident')
    with op.batch_alter_table('practitioner_org', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_practitioner_org_org_id'))

    op.drop_table('practitioner_org')
    op.drop_table('app_user')
    op.drop_table('village_counter')
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organization_parent_id'))
        batch_op.drop_index(batch_op.f('ix_organization_medical_community_id'))
        batch_op.drop_index(batch_op.f('ix_organization_division_code'))

    op.drop_table('organization')
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.drop_index('uq_household_code')
        batch_op.drop_index(batch_op.f('ix_household_village_code'))

    op.drop_table('household')
    with op.batch_alter_table('audit_subject', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_subject_resident_id')

    op.drop_table('audit_subject')
    with op.batch_alter_table('synth_truth', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_synth_truth_person_id'))

    op.drop_table('synth_truth')
    op.drop_table('synth_stage')
    with op.batch_alter_table('practitioner', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_practitioner_id_number'))

    op.drop_table('practitioner')
    op.drop_table('medical_community')
    with op.batch_alter_table('division', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_division_parent_code'))

    op.drop_table('division')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))

    op.drop_table('audit_event')
