from typing import Any

from django.db.models import QuerySet
from django.urls import include, path
from rest_framework import serializers, viewsets
from rest_framework.routers import SimpleRouter

from .models import Item


class ItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = Item
        fields = ("id", "title", "description", "owner", "created_at")
        read_only_fields = ("owner", "created_at")


class ItemViewSet(viewsets.ModelViewSet):
    serializer_class = ItemSerializer

    def get_queryset(self) -> QuerySet[Item]:
        items = Item.objects.all()
        if self.request.user.is_superuser:
            return items
        return items.filter(owner=self.request.user)

    def perform_create(self, serializer: Any) -> None:
        serializer.save(owner=self.request.user)


router = SimpleRouter()
router.register("items", ItemViewSet, basename="item")
urlpatterns = [path("api/", include(router.urls))]
