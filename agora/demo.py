"""The demo community 港云里 (demo-only accounts, password ``agora-demo``)."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from agora.roster.models import (
    Building,
    Community,
    Grid,
    Household,
    Membership,
    Resident,
    Role,
    Tag,
    Tenure,
)

DEMO_PASSWORD = "agora-demo"
DEMO_RESIDENTS = 40
TAGS = [
    ("car_owner", "车主", "Car owner"),
    ("renter", "租户", "Renter"),
    ("commuter", "上班族", "Commuter"),
    ("elderly", "老年人", "Elderly"),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = ["建国", "秀英", "桂兰", "志强", "丽", "伟", "敏", "静", "磊", "洋", "艳", "军", "杰", "娟", "涛", "明", "超", "霞", "平", "刚"]


def tags_ensure() -> dict[str, Tag]:
    out = {}
    for slug, zh, en in TAGS:
        tag, _ = Tag.objects.get_or_create(slug=slug, defaults={"name_zh": zh, "name_en": en})
        out[slug] = tag
    return out


@transaction.atomic
def demo_seed() -> Community:
    from sessions.models import (
        AgendaItem,
        SessionState,
        SessionTransition,
        TopicSession,
    )

    rng = random.Random(2023)
    User = get_user_model()
    password = make_password(DEMO_PASSWORD)
    tags = tags_ensure()
    community = Community.objects.create(slug="gangyunli", name="港云里社区", district="河西区越秀路街")
    grids = [Grid.objects.create(community=community, name=f"第{n}网格") for n in (1, 2, 3)]
    households: list[Household] = []
    for b in range(1, 10):
        building = Building.objects.create(community=community, grid=grids[(b - 1) % 3], name=f"{b}号楼")
        for unit in ("1", "2"):
            for floor in range(1, 5):
                for door in (1, 2, 3):
                    if len(households) >= 200:
                        break
                    area = Decimal(rng.randrange(4500, 12000)) / 100
                    households.append(
                        Household.objects.create(
                            building=building,
                            unit=unit,
                            room=f"{floor}0{door}",
                            exclusive_area=area,
                            owner_key=f"GYL-{b:02d}{unit}{floor}{door}",
                        )
                    )
    # Some owners hold two units: Art. 278 counts them once by headcount.
    for first, second in ((households[5], households[6]), (households[40], households[41])):
        second.owner_key = first.owner_key
        second.save(update_fields=["owner_key"])

    moderator = User.objects.create(username="moderator", first_name="王书记", password=password, is_staff=True)
    Membership.objects.create(user=moderator, community=community, role=Role.MODERATOR, title="社区党委书记")
    observer = User.objects.create(username="observer", first_name="物业公司李经理", password=password)
    Membership.objects.create(user=observer, community=community, role=Role.OBSERVER, title="物业公司")

    for n in range(1, DEMO_RESIDENTS + 1):
        name = SURNAMES[n % len(SURNAMES)] + GIVEN[n % len(GIVEN)]
        user = User.objects.create(username=f"resident{n:02d}", first_name=name, password=password)
        household = households[(n - 1) * 5]
        tenant = n % 5 == 0
        resident = Resident.objects.create(
            user=user,
            community=community,
            household=household,
            tenure=Tenure.TENANT if tenant else Tenure.OWNER,
            verified=True,
        )
        chosen = []
        if n <= 24 or n % 3 == 0:
            chosen.append(tags["car_owner"])
        if tenant:
            chosen.append(tags["renter"])
        if n % 2 == 0:
            chosen.append(tags["commuter"])
        if n % 4 == 1:
            chosen.append(tags["elderly"])
        resident.tags.set(chosen)

    # A second community, so that scoping is visible in the demo.
    other = Community.objects.create(slug="fujianlu", name="福建路社区", district="河西区下瓦房街")
    other_building = Building.objects.create(community=other, name="闽侯路31号")
    other_household = Household.objects.create(
        building=other_building, unit="3", room="101", exclusive_area=Decimal("62.50"), owner_key="FJL-1"
    )
    other_mod = User.objects.create(username="moderator2", first_name="赵主任", password=password)
    Membership.objects.create(user=other_mod, community=other, role=Role.MODERATOR, title="居委会主任")
    other_res = User.objects.create(username="resident99", first_name="刘大爷", password=password)
    Resident.objects.create(user=other_res, community=other, household=other_household, tenure=Tenure.OWNER, verified=True)

    starts = timezone.localtime().replace(hour=19, minute=0, second=0, microsecond=0) + timedelta(days=1)
    session = TopicSession.objects.create(
        community=community,
        created_by=moderator,
        title="新增停车位如何分配",
        category="parking",
        description=(
            "地铁腾迁房售出后，社区新住户需要70多个新增停车位。我们收回了1400多份调查问卷。"
            "本场专门请车主们一起商量：如何登记车辆？如何解决租户车位、非常住户车位？车位后续怎么管理？"
        ),
        starts_at=starts,
        place="社区党群服务中心二楼 红色议事厅",
        state=SessionState.SCHEDULED,
    )
    session.audience_tags.set([tags["car_owner"]])
    session.observers.set([observer])
    SessionTransition.objects.create(session=session, from_state=SessionState.DRAFT, to_state=SessionState.SCHEDULED, by=moderator)
    for position, (title, minutes) in enumerate([("车辆登记办法", 20), ("租户和非常住户的车位", 30), ("车位后续管理", 20)], start=1):
        AgendaItem.objects.create(session=session, position=position, title=title, planned_minutes=minutes)
    return community
