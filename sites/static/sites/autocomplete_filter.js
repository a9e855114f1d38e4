'use strict';
// Admin list filters that search as you type (sites.admin.AutocompleteFilter): the
// admin's Select2 widget picks a site or MSP, and picking one reloads the list with it.
{
    const $ = django.jQuery;
    $(function() {
        $('select.autocomplete-filter').on('change', function() {
            const base = this.dataset.baseQuery;
            const param = encodeURIComponent(this.dataset.param);
            const extra = this.value ? param + '=' + encodeURIComponent(this.value) : '';
            const joiner = base.length > 1 && extra ? '&' : '';
            window.location.search = base + joiner + extra;
        });
    });
}
