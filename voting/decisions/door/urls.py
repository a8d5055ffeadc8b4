"""/decisions/<id>/door/…: door to door (扫楼), the 扫楼 list, proxies (委托书)."""

from __future__ import annotations

from django.urls import path

from voting.decisions.door import views

urlpatterns = [
    path("<int:decision_id>/door/", views.door_start, name="door_start"),
    path("<int:decision_id>/door/ballot/", views.door_ballot, name="door_ballot"),
    path("<int:decision_id>/door/list/", views.canvass_list, name="door_list"),
    path("<int:decision_id>/door/list.csv", views.canvass_csv, name="door_list_csv"),
    path("<int:decision_id>/door/proxies/", views.proxies, name="door_proxies"),
    path("<int:decision_id>/door/proxies/<int:proxy_id>/revoke/", views.proxy_revoke, name="door_proxy_revoke"),
    path("<int:decision_id>/door/proxies/<int:proxy_id>/document/", views.proxy_document, name="door_proxy_document"),
    path("<int:decision_id>/door/proxy/<int:proxy_id>/", views.proxy_ballot, name="door_proxy_ballot"),
]
